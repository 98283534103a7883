"""The organisers' live, read-only web view (`mailintake web`, or inside `serve`): see `app.py`."""

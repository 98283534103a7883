"""Alembic environment: the engine is handed in by store.db (never read from a config file).

On SQLite, column changes rebuild a table (batch mode), which foreign keys pointing at it would refuse:
they are switched off for the migration (a connection-level pragma, outside the transaction) and the
result is checked with `foreign_key_check` before the commit.
"""

from alembic import context
from sqlalchemy import text

from mailintake.store.models import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    with connection.begin():
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=sqlite)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite and connection.execute(text("PRAGMA foreign_key_check")).first() is not None:
            raise RuntimeError("the migration left rows whose foreign keys point nowhere")
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")

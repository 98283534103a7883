"""TLS for every connection the service makes (IMAP, SMTP): verified against the system's CAs or the
configured `ca_file`, with the per-server `verify_tls = false` opt-out the only way round it."""

from __future__ import annotations

import logging
import ssl

from mailintake.ingest.config import Server

log = logging.getLogger(__name__)


def client_context(server: Server) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=server.ca_file or None)
    if not server.verify_tls:  # an explicit, documented per-server opt-out; never the default
        log.warning("TLS certificate verification is off for %s:%s (verify_tls = false)", server.host, server.port)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx

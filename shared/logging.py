"""JSON logs on stdout, one object a line, with the service name on every record."""

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

from shared.observability import CorrelationFilter

_LINK_TOKEN = re.compile(r"(/public/invitations/)[A-Za-z0-9_.=-]+")


def redact_link_tokens(text: str) -> str:
    """A producer's invitation link carries its credential in the path: logs show `<token>` instead."""
    return _LINK_TOKEN.sub(r"\1<token>", text)


class RedactLinkTokens(logging.Filter):
    """Access logs (uvicorn's), error logs and ours never show an invitation link's token."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Argument by argument first: uvicorn's access formatter reads the path from its own argument.
        if isinstance(record.args, tuple):
            record.args = tuple(redact_link_tokens(a) if isinstance(a, str) else a for a in record.args)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        if (redacted := redact_link_tokens(message)) != message:  # a token put in by a %s of its own
            record.msg, record.args = redacted, ()
        if record.exc_info:
            # An exception's text can quote the path. Formatted here once and the original dropped: every
            # formatter (the JSON one included) then prints the redacted text.
            record.exc_text = redact_link_tokens(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact_link_tokens(record.stack_info)
        return True


def configure_logging(service_name: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(CorrelationFilter())
    handler.addFilter(RedactLinkTokens())
    for name in ("uvicorn.access", "uvicorn.error"):  # uvicorn's own handlers: filtered at the logger
        if not any(isinstance(f, RedactLinkTokens) for f in logging.getLogger(name).filters):
            logging.getLogger(name).addFilter(RedactLinkTokens())
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service_name},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)

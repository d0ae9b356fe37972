"""Log redaction: the token and Telegram objects never reach the log output."""

import io
import logging

from telegram import Chat, Message, Update, User

from telegram_front.logsafe import RedactingFilter, quiet_libraries, setup_logging

TOKEN = "987654:SECRET-token_value"


def capture():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    return stream, handler


def test_token_is_redacted_from_messages_and_tracebacks():
    stream, handler = capture()
    handler.addFilter(RedactingFilter([TOKEN]))
    logger = logging.getLogger("test.logsafe.token")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("POST https://api.telegram.org/bot%s/sendMessage failed", TOKEN)
        try:
            raise RuntimeError(f"url was https://api.telegram.org/bot{TOKEN}/getMe")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert TOKEN not in output and "SECRET-token_value" not in output
    assert output.count("<redacted>") == 2
    assert "RuntimeError" in output  # the traceback itself is kept


def test_telegram_objects_are_not_printed():
    stream, handler = capture()
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.logsafe.objects")
    logger.addHandler(handler)
    logger.propagate = False
    user = User(31337, "Zorglub", False, username="zorglub_31337")
    message = Message(1, None, Chat(31337, "private"), from_user=user, text="mon secret")
    try:
        logger.critical("Error while building CallbackContext for update %s", Update(5, message=message))
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "<Update>" in output
    for forbidden in ("31337", "Zorglub", "mon secret"):
        assert forbidden not in output


def test_httpx_request_lines_are_silenced():
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    quiet_libraries()
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)


def test_setup_logging_installs_the_filter():
    stream, handler = capture()
    root = logging.getLogger()
    level = root.level
    try:
        setup_logging(logging.INFO, secrets=[TOKEN], handler=handler)
        logging.getLogger("some.library").warning("token=%s", TOKEN)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert TOKEN not in stream.getvalue() and "<redacted>" in stream.getvalue()

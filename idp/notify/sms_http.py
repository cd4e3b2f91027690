"""A generic HTTP SMS gateway: POST a JSON body to SMS_GATEWAY_URL (SMS_BACKEND = "http").

Most operators' APIs take a JSON POST with the number, the text and a bearer token or an
API key header; the body is a template in config, so no code is written per operator:

    SMS_GATEWAY_URL   = "https://sms.example/v1/messages"
    SMS_GATEWAY_TOKEN = "..."                  # Authorization: Bearer ... (or the header
    SMS_GATEWAY_AUTH_HEADER = "X-Api-Key"      #  named here, with the raw token)
    SMS_GATEWAY_BODY  = '{"to": "{to}", "text": "{text}", "sender": "EDUC"}'

Placeholders `{to}` (E.164), `{to_digits}` (without the +), `{text}` and `{id}` (the outbox
message id) are filled in string values of the parsed template, so a text with quotes or
new lines stays valid JSON. Each request carries `Idempotency-Key: outbox-<id>`: the
worker delivers at least once, a gateway that honours the header sends once.

A 2xx answer is accepted; 400, 410, 413 and 422 (the gateway refuses this message) are
permanent; anything else (timeouts, 5xx, 429, 401/403 while credentials are fixed) is
retried by the worker with its backoff.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

import requests

from ..models import OutboxMessage
from .senders import DeliveryError, PermanentDeliveryError, register_sender

PERMANENT = {400, 410, 413, 422}


def fill(template: Any, values: dict[str, str]) -> Any:
    """The body template with placeholders replaced inside its string values."""
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    return template


class HttpSmsSender:
    def __init__(self, settings: Mapping):
        self.url = settings.get("SMS_GATEWAY_URL")
        if not self.url:
            raise LookupError("SMS_BACKEND is http but SMS_GATEWAY_URL is not set")
        try:
            self.body = json.loads(settings.get("SMS_GATEWAY_BODY") or "")
        except json.JSONDecodeError as exc:
            raise LookupError(f"SMS_GATEWAY_BODY is not JSON: {exc}") from exc
        if "{text}" not in json.dumps(self.body):
            raise LookupError("SMS_GATEWAY_BODY has no {text} placeholder")
        self.timeout = float(settings.get("SMS_GATEWAY_TIMEOUT") or 10)
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        token = settings.get("SMS_GATEWAY_TOKEN")
        header = settings.get("SMS_GATEWAY_AUTH_HEADER") or "Authorization"
        if token:
            self.headers[header] = f"Bearer {token}" if header.lower() == "authorization" \
                else str(token)
        self.session = requests.Session()  # one connection per worker pass

    def send(self, message: OutboxMessage) -> None:
        body = fill(self.body, {"to": message.recipient,
                                "to_digits": message.recipient.lstrip("+"),
                                "text": message.text, "id": str(message.id)})
        headers = {**self.headers, "Idempotency-Key": f"outbox-{message.id}"}
        try:
            response = self.session.post(self.url, data=json.dumps(body).encode(),
                                         headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            self.close()
            raise DeliveryError(f"gateway unreachable: {type(exc).__name__}") from exc
        if 200 <= response.status_code < 300:
            return
        detail = f"gateway answered {response.status_code}"
        if response.status_code in PERMANENT:
            raise PermanentDeliveryError(detail)
        raise DeliveryError(detail)

    def close(self) -> None:
        self.session.close()


register_sender("sms", "http", HttpSmsSender)

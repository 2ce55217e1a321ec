"""WeChat's XML, checked and read: signatures compared in constant time, safe mode's envelope
decrypted, messages parsed by wechatpy.

wechatpy reads XML with xmltodict over expat, and xmltodict (from 0.12, `disable_entities=True`)
refuses any entity declaration: an external entity (XXE) is never resolved, a billion-laughs
expansion never starts. Expat reads no external DTD on its own. What is left — size — is bounded by
the webhook, which reads at most `MAX_BYTES` of a body."""

from __future__ import annotations

import secrets
import struct
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.messages import BaseMessage
from wechatpy.utils import WeChatSigner

MAX_BYTES = 64 * 1024  # WeChat's pushes are a few hundred bytes; a text is at most 2048 bytes


class BadXml(ValueError):
    """Not a WeChat message: malformed, with entities, or without the fields every message has."""


def signed(expected_parts: tuple[str, ...], signature: str) -> bool:
    """WeChat's signature (sha1 of the sorted parts) compared in constant time."""
    signer = WeChatSigner()
    signer.add_data(*expected_parts)
    return secrets.compare_digest(signer.signature.encode(), signature.encode())


def _tree(xml: str) -> dict[str, Any]:
    try:
        tree = xmltodict.parse(xml, disable_entities=True)
    except (ExpatError, ValueError) as error:
        raise BadXml(str(error)) from None
    root = tree.get("xml") if isinstance(tree, dict) else None
    if not isinstance(root, dict):
        raise BadXml("no <xml> root")
    return root


def decrypt(
    crypto: WeChatCrypto, envelope: str, token: str, msg_signature: str, timestamp: str, nonce: str
) -> str | None:
    """The plain XML inside safe mode's envelope; None when `msg_signature` does not cover it."""
    encrypted = _tree(envelope).get("Encrypt")
    if not isinstance(encrypted, str) or not signed((token, timestamp, nonce, encrypted), msg_signature):
        return None
    try:
        return str(crypto.decrypt_message({"Encrypt": encrypted}, msg_signature, timestamp, nonce))
    except (InvalidAppIdException, ValueError, IndexError, struct.error) as error:
        raise BadXml(type(error).__name__) from None


def parse(xml: str) -> tuple[BaseMessage, str]:
    """A wechatpy message or event, and its inbox key, after the XML was read here with entities
    refused. The key is MsgId for a message; an event has none, so sender and CreateTime, the pair
    WeChat's documentation gives for recognising its retries."""
    root = _tree(xml)
    if not all(isinstance(root.get(name), str) for name in ("FromUserName", "CreateTime", "MsgType")):
        raise BadXml("a field every message has is missing")
    msg_id = root.get("MsgId")
    if isinstance(msg_id, str) and msg_id:
        key = f"msg:{msg_id}"
    else:
        key = f"event:{root['FromUserName']}:{root['CreateTime']}"
    return parse_message(xml), key

"""Download the text snippets and files attached to a message (the bot token authorises the download)."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

MAX_FILE = 1_000_000
TEXT_TYPES = {
    "text",
    "json",
    "yaml",
    "javascript",
    "typescript",
    "shell",
    "python",
    "go",
    "markdown",
    "xml",
    "csv",
    "log",
    "plain",
    "html",
    "toml",
    "ini",
    "diff",
}


def is_text(file: dict) -> bool:
    mimetype = str(file.get("mimetype", ""))
    return (
        mimetype.startswith("text/")
        or mimetype in ("application/json", "application/x-yaml")
        or str(file.get("filetype", "")) in TEXT_TYPES
    )


async def file_texts(files: tuple[dict, ...], token: str, client, timeout: float = 10) -> list[str]:
    """The text of each attached text file, in order; binary or too large files are skipped."""
    out: list[str] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        for file in files[:5]:
            info = file
            if not (file.get("url_private_download") or file.get("url_private")) and file.get("id"):
                try:
                    info = (await client.files_info(file=file["id"])).get("file") or file
                except SlackApiError as exc:
                    # A deleted or unshared file costs that file, not the answer to the rest of the message.
                    log.warning("file %s not readable: %s", file.get("id"), exc.response.get("error"))
                    continue
            url = info.get("url_private_download") or info.get("url_private")
            if not url or not is_text(info) or int(info.get("size") or 0) > MAX_FILE:
                continue
            try:
                async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
                    # Slack answers a bad token with its HTML login page and status 200: not the file.
                    html = resp.content_type == "text/html" and str(info.get("filetype")) != "html"
                    if resp.status != 200 or html:
                        log.warning("file %s download answered %s %s", info.get("id"), resp.status, resp.content_type)
                        continue
                    data = await resp.content.read(MAX_FILE + 1)
            except (aiohttp.ClientError, TimeoutError):
                log.warning("file %s download failed", info.get("id"), exc_info=True)
                continue
            out.append(data[:MAX_FILE].decode("utf-8", errors="replace"))
    return out

"""The MCP tools, through Gradio's built-in MCP server, driven by the real `mcp` client SDK over
streamable HTTP on 127.0.0.1: list the tools (their schemas explain themselves), call each one."""

from __future__ import annotations

import asyncio
import json
import os
import socket

import pytest

mcp = pytest.importorskip("mcp")


@pytest.fixture(scope="module")
def mcp_url(settings):
    import app

    before = os.environ.get("GRADIO_TEMP_DIR")
    demo = app.build_app(settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **app.launch_options(settings, mcp=True))
    yield f"http://127.0.0.1:{port}/gradio_api/mcp/"
    demo.close()
    if before is None:
        os.environ.pop("GRADIO_TEMP_DIR", None)
    else:
        os.environ["GRADIO_TEMP_DIR"] = before


def _session(url, work):
    "Run `work(session)` in one MCP client session."
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def main():
        async with streamablehttp_client(url) as (read, write, _), ClientSession(read, write) as session:
            await session.initialize()
            return await work(session)

    return asyncio.run(main())


def _json(result):
    assert not result.isError, result.content
    assert len(result.content) == 1 and result.content[0].type == "text"
    return json.loads(result.content[0].text)


def test_tools_are_listed_with_schemas_that_explain_them(mcp_url):
    async def work(session):
        return (await session.list_tools()).tools

    tools = {t.name: t for t in _session(mcp_url, work)}
    assert set(tools) == {"ask", "search", "list_articles"}  # nothing of the page's own events
    ask = tools["ask"]
    assert "citations" in ask.description and "abstained" in ask.description
    assert ask.inputSchema["required"] == ["question"]
    assert ask.inputSchema["properties"]["question"]["type"] == "string"
    assert "self-contained question" in ask.inputSchema["properties"]["question"]["description"]
    search = tools["search"].inputSchema
    assert search["required"] == ["query"] and search["properties"]["k"]["type"] == "integer"
    assert search["properties"]["k"]["default"] == 5 and "1 to 50" in search["properties"]["k"]["description"]
    assert tools["list_articles"].inputSchema["properties"] == {}


def test_each_tool_is_called(mcp_url, settings):
    async def work(session):
        return (await session.call_tool("ask", {"question": "What is the Beijing Protocol?"}),
                await session.call_tool("ask", {"question": "What is the capital of France?"}),
                await session.call_tool("search", {"query": "Beijing Protocol", "k": 3}),
                await session.call_tool("list_articles", {}),
                await session.call_tool("search", {"query": "Beijing Protocol", "k": 500}),
                await session.call_tool("ask", {"question": "  "}))

    answered, abstained, searched, listed, bad_k, empty = _session(mcp_url, work)
    a = _json(answered)
    assert not a["abstained"] and "Beijing Protocol" in a["text"] and a["citations"]
    c = a["citations"][0]
    assert f"[{c['marker']}]" in a["text"] and c["text"][c["quotes"][0][0]: c["quotes"][0][1]] in a["text"]
    assert _json(abstained)["abstained"] is True and _json(abstained)["text"].startswith("The articles don't")
    hits = _json(searched)
    assert [h["rank"] for h in hits] == [1, 2, 3] and "Beijing Protocol" in hits[0]["text"]
    from rag.retrieval import open_retriever

    articles = _json(listed)
    assert {x["doc_id"] for x in articles} == set(open_retriever(settings).store.snapshot.docs)
    # A caller's mistake comes back as a tool error with the reason, not a crash.
    assert bad_k.isError and "k must be a whole number from 1 to 50" in bad_k.content[0].text
    assert empty.isError and "empty" in empty.content[0].text

"""`python app.py --mcp`: the three models' events served as MCP tools an agent can list, read and call."""
import asyncio

import httpx
import pytest

from rnn_demo.serving import Engine
from rnn_demo.ui import after_launch, build_demo, launch_options, page

from tests.conftest import free_port

pytest.importorskip("mcp")
from mcp import ClientSession  # noqa: E402
from mcp.client.streamable_http import streamablehttp_client  # noqa: E402

HTTP_TIMEOUT_S = 30


@pytest.fixture(scope="module")
def mcp_url(quick_assets):
    demo = build_demo(Engine(quick_assets))
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True,
                **launch_options(mcp=True))
    try:
        assert sorted(after_launch(demo)) == sorted(page.MCP_TOOLS)
        yield demo.local_url.rstrip("/") + "/gradio_api/mcp/"
    finally:
        demo.close()


async def _session(url: str, work):
    async with streamablehttp_client(url) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await work(session)


def test_an_agent_lists_the_three_tools_with_descriptions_it_can_act_on(mcp_url):
    tools = asyncio.run(_session(mcp_url, lambda session: session.list_tools())).tools
    by_name = {tool.name: tool for tool in tools}
    assert set(by_name) == {"generate", "chat", "fill"}
    assert "___" in by_name["fill"].description and "Shakespeare" in by_name["generate"].description
    assert "modern" in by_name["chat"].description or "modern" in str(by_name["chat"].inputSchema)
    for tool in tools:  # every parameter explained, none of them the page's request object
        properties = tool.inputSchema["properties"]
        assert properties and "request" not in properties and "visitor" not in properties
        assert all(spec.get("description") for spec in properties.values()), tool.name


def test_an_agent_calls_fill_and_gets_the_fillers(mcp_url):
    async def fill(session):
        return await session.call_tool("fill", {"sentence": "Paris is the capital of ___.", "top_k": 3})

    result = asyncio.run(_session(mcp_url, fill))
    text = " ".join(getattr(part, "text", "") for part in result.content)
    assert not result.isError, text
    assert "confidences" in text and "label" in text


def test_an_agent_gets_the_apps_own_message_for_a_bad_request(mcp_url):
    async def fill(session):
        return await session.call_tool("fill", {"sentence": "no gap here", "top_k": 3})

    result = asyncio.run(_session(mcp_url, fill))
    text = " ".join(getattr(part, "text", "") for part in result.content)
    assert result.isError and "gap" in text.lower()


def test_without_mcp_its_routes_are_closed(quick_assets, serve_app):
    with serve_app(Engine(quick_assets)) as demo:
        response = httpx.get(demo.local_url.rstrip("/") + "/gradio_api/mcp/sse", timeout=HTTP_TIMEOUT_S)
        assert response.status_code == 404 and "not a route of this app" in response.json()["detail"]

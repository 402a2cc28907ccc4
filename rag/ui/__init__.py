"""The web UI's pure parts (no Gradio import, so tests call them directly).

    safe       every character of article or model text reaches the browser HTML-escaped
    render     answers, drafts, sources, the article reader and the copy text, as HTML or Markdown
    uploads    checking and storing uploaded articles
    assets     the page's CSS and script
    tools      ask / search / list_articles as typed functions (the API and MCP tools)

app.py holds the Gradio layout and event handlers.
"""

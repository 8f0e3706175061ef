"""Server-rendered pages for people (zh-CN), on the same services as the JSON API."""

"""WeCom (企业微信): the self-built application moderators use as a chat front end."""

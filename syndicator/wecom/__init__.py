"""The WeCom (企业微信) chat front end on the moderation core: cards, button presses, replies, outbox."""

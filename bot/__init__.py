"""Teams: the aiohttp app, the botbuilder edge, command parsing, card actions, identity and roles."""

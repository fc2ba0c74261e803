"""Teams: the aiohttp app, the Agents SDK edge, command parsing, card actions, identity and roles."""

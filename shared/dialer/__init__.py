"""The dialer's domain: agents' states, pacing, and what an integration hears of them."""

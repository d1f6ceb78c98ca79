"""What partners and readers subscribe to: RSS/Atom/JSON feeds and their WebSub pings."""

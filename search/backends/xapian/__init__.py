"""The Xapian backend: an index spread over shards that xapian-tcpsrv can serve."""

"""Ranking rules both backends share: words as typed (:mod:`.exactness`)."""

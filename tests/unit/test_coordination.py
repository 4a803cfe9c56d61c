"""The coordinated union of the any mode (search/backends/whoosh/coordination.py), on a
Whoosh index in memory."""

from __future__ import annotations

import pytest


def test_coordinated_union_scores_by_the_share_of_weight_held():
    from whoosh import fields
    from whoosh.filedb.filestore import RamStorage
    from whoosh.query import Term

    from search.backends.whoosh.coordination import Coordinated

    schema = fields.Schema(id=fields.ID(stored=True), text=fields.TEXT)
    index = RamStorage().create_index(schema)
    with index.writer() as writer:
        writer.add_document(id="ab", text="alpha beta")
        writer.add_document(id="a", text="alpha gamma")
        writer.add_document(id="b", text="beta")
        writer.add_document(id="none", text="delta")
    clauses = [Term("text", "alpha"), Term("text", "beta")]
    with index.searcher() as searcher:
        plain = {hit["id"]: hit.score for hit in searcher.search(Coordinated(clauses, [1, 3], power=0), limit=None)}
        coord = {hit["id"]: hit.score for hit in searcher.search(Coordinated(clauses, [1, 3], power=2), limit=None)}
        assert set(plain) == set(coord) == {"ab", "a", "b"}
        assert coord["ab"] == pytest.approx(plain["ab"])
        assert coord["a"] == pytest.approx(plain["a"] * (1 / 4) ** 2)
        assert coord["b"] == pytest.approx(plain["b"] * (3 / 4) ** 2)
        matcher = Coordinated(clauses, [1, 3]).matcher(searcher)
        assert len(list(matcher.all_ids())) == 3

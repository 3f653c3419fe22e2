"""Account linkage: the account graph, its Leiden communities and their dense-block scores.

`link_accounts(con, config) -> Linkage` is the stage's one entry point; see docs/linkage.md.
"""

from distillguard.link.clusters import Cluster
from distillguard.link.config import LinkConfig
from distillguard.link.linkage import EDGE_SCHEMA, Linkage, link_accounts

__all__ = ["EDGE_SCHEMA", "Cluster", "LinkConfig", "Linkage", "link_accounts"]

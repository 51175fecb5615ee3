"""The interpreting mapper that ``procurement.feeds.mapping`` replaced, kept verbatim as an oracle.

``profile.py``, ``items.py``, ``rows.py`` and ``transforms.py`` are the modules as they were before
profiles were compiled to straight-line functions; the mapping tests (and ``bench/mapper.py``)
map the same items with both and require identical rows. Do not "fix" this copy: it is the
definition of the behaviour the compiled mapper must keep. A deliberate change of a mapping rule
changes both, in the same commit.
"""

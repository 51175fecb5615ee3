"""Supplier feeds: from a ``SupplierFeed`` row to a stream of clean canonical rows.

Nothing in this package writes to the database; the ingest (``procurement/services/ingest*``)
consumes what :func:`procurement.feeds.reader.feed_read` yields. One module per responsibility:

==================  ===========================================================================
``source``          ``FeedSource``: a plain snapshot of a feed's settings (no ORM past this point)
``options``         parsing and validation of ``format_options`` and ``pagination``
``auth``            credentials read from the environment variables a feed names
``redact``          scrubbing credentials out of URLs and messages
``download``        HTTP (timeouts, retries, redirects, size limit) and local files, spooled
``unpack``          gzip and zip bodies recognised by their content
``pagination``      which page to request next, and when to stop
``encoding``        choosing the text encoding of a CSV page (UTF-8, else cp1252)
``parse_csv``       CSV rows, streaming
``parse_json``      JSON documents (ijson) and JSON Lines, streaming
``parse_xml``       XML items (lxml iterparse), streaming and hardened
``text``            HTML-to-text and whitespace helpers shared by transforms and mapping
``transforms``      the mapper transforms (pure functions)
``profile``         mapper profiles: the language and its validator (``profile_problems``)
``mapping``         raw items, the compiled mapper (``profile_compile``) and the canonical rows
                    (``MappedRow`` / ``RowRejection``): the contract the ingest consumes
``reader``          ``feed_read``: download, parse and map, page by page
``preview``         ``feed_preview``: the first rows of a feed, without writing anything
``demo_server``     the local HTTP server behind the demo's Nortech API
==================  ===========================================================================
"""

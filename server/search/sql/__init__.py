"""One module per SearchParameter type, each turning a parsed ``Criterion`` into a
SQLAlchemy boolean condition on a ``resource`` row (see ``common.Scope``)."""

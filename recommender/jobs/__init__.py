"""Jobs: the full build, the nightly reindex and the evaluation, driving the layers below."""

"""The templates and fixed words publisher renders, installed as ``publisher.templates``.

One folder per edge or stage, each with its Jinja templates and a
``strings.toml`` of ``[en]`` and ``[ja]`` words: ``digest/`` (the weekly
mail), ``email/`` (the confirmation mail), ``web/`` (the subscriber pages),
``console/`` (the editors' console), ``messages/`` (what the CLI, the logs and
the console say of a result), and ``feed.xsl`` (the readable page of a feed in
a browser). ``[digest] templates`` may name a folder that overrides the
digest's and the confirmation mail's templates by file name.

Read through :func:`publisher.files.template_folder`, never by a path of a
module's own: the folder lives at the project's top level and is mapped into
the package when it is installed.
"""

"""The output stage: every file a build writes beside the MP3 (tags and chapters, cover, captions,
playlist, manifest), staged and committed together."""

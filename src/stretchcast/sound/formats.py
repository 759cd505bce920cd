"""The track's default format, alone: ``build --help`` shows it without loading the sound stage."""

DEFAULT_SAMPLE_RATE = 22050
DEFAULT_BITRATE = 64
ENCODERS = ("auto", "frames", "pcm")  # the back ends ``--encoder`` offers (pipeline.BuildOptions)

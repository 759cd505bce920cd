"""The sound stage: cue audio prepared, chimes made, the track laid out, mastered and encoded to MP3.

``signal`` has the signal helpers (levels, loudness, true peak, limiter), ``tones`` the chimes,
``cues`` speaks and prepares each distinct cue once (``prepared`` keeps prepared cues beside the
cue cache), ``layout`` finds the track's distinct sounds and where they play, ``master`` brings
them to the loudness target under the ceiling, ``encode`` feeds the encoders, and ``mp3`` writes
gapless MP3 with the header lameenc leaves out.
"""

"""The sound stage: cue audio prepared, chimes made, the track laid out, mastered and encoded to MP3.

``signal`` has the signal helpers (levels, loudness, true peak, limiter), ``tones`` the chimes,
``cues`` speaks and prepares each distinct cue once, ``render`` lays out and masters the track and
feeds the encoder, and ``mp3`` writes gapless MP3 with the header lameenc leaves out.
"""

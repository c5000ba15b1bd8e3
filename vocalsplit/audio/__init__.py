"""Audio I/O and signal processing: streaming reader, resampler, STFT/ISTFT, writers."""

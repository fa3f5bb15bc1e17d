"""corruptencoder: the CLI binary ships in this wheel as the `corruptencoder` command.

`corruptencoder.models` holds PyTorch definitions of the encoders, so that an encoder trained
by `corruptencoder pretrain` and written by `corruptencoder export` loads into PyTorch.
"""

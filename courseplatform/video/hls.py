"""HLS files of one video: media and master playlists, and AES-128 segment encryption.

The stored media playlist is a template (``video/models.py`` has the storage layout
contract): init and segment URIs are bare file names and every ``EXT-X-KEY`` reads
``URI="key"``; ``playback.py`` fills in signed URLs per viewer.

Encryption is the HLS "AES-128" method: each whole segment file is AES-128-CBC with
PKCS#7 padding (as ``openssl aes-128-cbc -K … -iv …`` writes it) under the video's
key. Each segment has its own random IV, written as an ``EXT-X-KEY`` line (same key
URI, new ``IV``) just before it, so no two segments of a video share an IV: with one
IV per rendition, equal leading plaintext blocks of two segments (fMP4 box headers)
gave equal ciphertext blocks, and media-sequence IVs would repeat across renditions,
which share the key. The init segment stays clear: it precedes the key in the
playlist.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from . import ladder as ladder_mod
from .ladder import Rung


@dataclass
class RungOutput:
    rung: Rung
    segments: list[tuple[str, float]]  # (file name, seconds)
    segment_bytes: list[int]
    init_bytes: int
    codecs: str
    ivs: list[bytes]  # one per segment, in playlist order

    @property
    def bandwidth(self) -> int:
        """Peak bit rate over segments (the short tail segment excluded when others exist)."""
        pairs = list(zip(self.segment_bytes, (d for _, d in self.segments), strict=True))
        full = [(b, d) for b, d in pairs if d >= 1.0] or pairs
        return int(max(b * 8 / max(d, 0.001) for b, d in full))

    @property
    def average_bandwidth(self) -> int:
        seconds = sum(d for _, d in self.segments)
        return int(sum(self.segment_bytes) * 8 / max(seconds, 0.001))

    @property
    def total_bytes(self) -> int:
        return self.init_bytes + sum(self.segment_bytes)


# --- playlists -----------------------------------------------------------------------------

_EXTINF = re.compile(r"#EXTINF:([0-9.]+)")


def parse_media_playlist(text: str) -> list[tuple[str, float]]:
    """``[(uri, seconds), ...]`` of a media playlist."""
    segments: list[tuple[str, float]] = []
    pending: float | None = None
    for line in text.splitlines():
        line = line.strip()
        match = _EXTINF.match(line)
        if match:
            pending = float(match.group(1))
        elif line and not line.startswith("#") and pending is not None:
            segments.append((line, pending))
            pending = None
    return segments


def media_playlist(segments: list[tuple[str, float]], *, ivs: list[bytes]) -> str:
    """The stored template: relative URIs, key URI the literal ``key``, one IV per segment."""
    if len(ivs) != len(segments):
        raise ValueError(f"{len(segments)} segments but {len(ivs)} IVs")
    target = max(ladder_mod.SEGMENT_SECONDS, max(math.ceil(d - 0.001) for _, d in segments))
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:1",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-MAP:URI="init.mp4"',
    ]
    for (uri, seconds), iv in zip(segments, ivs, strict=True):
        lines += [
            f'#EXT-X-KEY:METHOD=AES-128,URI="key",IV=0x{iv.hex()}',
            f"#EXTINF:{seconds:.6f},",
            uri,
        ]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


_KEY_IV = re.compile(r"IV=0[xX]([0-9a-fA-F]{32})")
_MEDIA_SEQUENCE = re.compile(r"#EXT-X-MEDIA-SEQUENCE:(\d+)")


def segment_ivs(text: str) -> list[tuple[str, bytes]]:
    """``[(uri, iv), ...]``: the AES-128 IV each segment of a media playlist is
    decrypted with, as RFC 8216 §5.2 says — the ``IV`` of the ``EXT-X-KEY`` in
    effect, or else the segment's media sequence number as a 16-byte big-endian
    integer."""
    found: list[tuple[str, bytes]] = []
    sequence = 0
    explicit: bytes | None = None
    in_segment = False
    for raw in text.splitlines():
        line = raw.strip()
        if (match := _MEDIA_SEQUENCE.fullmatch(line)) is not None:
            sequence = int(match[1])
        elif line.startswith("#EXT-X-KEY:"):
            iv = _KEY_IV.search(line)
            explicit = bytes.fromhex(iv[1]) if iv else None
        elif line.startswith("#EXTINF:"):
            in_segment = True
        elif line and not line.startswith("#") and in_segment:
            found.append((line, explicit or sequence.to_bytes(16, "big")))
            sequence += 1
            in_segment = False
    return found


def master_playlist(outputs: list[RungOutput], *, frame_rate: float) -> str:
    """Variants with every attribute players use; the 720p rung (or the top one) first,
    so players that start with the first listed variant start mid-ladder."""
    ordered = sorted(outputs, key=lambda o: -o.rung.height * o.rung.width)
    start = next((o for o in ordered if o.rung.name == "720p"), ordered[0])
    ordered = [start, *[o for o in ordered if o is not start]]
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for out in ordered:
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={out.bandwidth},"
            f"AVERAGE-BANDWIDTH={out.average_bandwidth},"
            f"RESOLUTION={out.rung.width}x{out.rung.height},"
            f'CODECS="{out.codecs}",'
            f"FRAME-RATE={frame_rate:.3f}"
        )
        lines.append(f"{out.rung.name}/index.m3u8")
    return "\n".join(lines) + "\n"


def ffmpeg_codecs(master_text: str) -> dict[str, str]:
    """CODECS per variant URI from ffmpeg's own master playlist."""
    found: dict[str, str] = {}
    codecs: str | None = None
    for line in master_text.splitlines():
        if line.startswith("#EXT-X-STREAM-INF:"):
            match = re.search(r'CODECS="([^"]+)"', line)
            codecs = match.group(1) if match else None
        elif line and not line.startswith("#") and codecs:
            found[line.split("/")[0]] = codecs
            codecs = None
    return found


def codecs_from_init(init: Path, has_audio: bool) -> str:
    import av

    with av.open(str(init)) as container:
        ctx = container.streams.video[0].codec_context
        # An init segment has no frames, so the decoder reports no profile and level -99;
        # the avcC record (version 1, profile, constraint flags, level) has the real ones.
        avcc = bytes(ctx.extradata or b"")
        if len(avcc) >= 4 and avcc[0] == 1:
            video = f"avc1.{avcc[1:4].hex()}"
        else:
            profile = {"Baseline": 66, "Constrained Baseline": 66, "Main": 77, "High": 100}.get(
                ctx.profile or "", 100
            )
            level = ctx.level if (ctx.level or 0) > 0 else 40
            video = f"avc1.{profile:02x}00{level:02x}"
    return f"{video},mp4a.40.2" if has_audio else video


# --- encryption ----------------------------------------------------------------------------


def encrypt_segment(data: bytes, *, key: bytes, iv: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def encrypt_rendition(
    rung_dir: Path, names: list[str], *, key: bytes
) -> tuple[list[bytes], list[int]]:
    """Encrypt the segment files ``names`` of one rendition in place, each under a fresh
    random IV; return the IVs and the encrypted sizes, in order."""
    ivs: list[bytes] = []
    sizes: list[int] = []
    for name in names:
        path = rung_dir / name
        iv = secrets.token_bytes(16)
        data = encrypt_segment(path.read_bytes(), key=key, iv=iv)
        path.write_bytes(data)
        ivs.append(iv)
        sizes.append(len(data))
    return ivs, sizes


def decrypt_segment(data: bytes, *, key: bytes, iv: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()

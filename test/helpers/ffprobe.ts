/**
 * What ffprobe says about a video file (the recorder's clips are checked by ffprobe, not by
 * our own header reader): container, codec, size, pixel format, duration, frames counted by
 * decoding. ffprobe comes from the one lookup (lib/common/ffmpeg.ts).
 */
import { execFile } from 'node:child_process';
import { findFfprobe } from '../../lib/common/ffmpeg';

export interface Probe {
  formatName: string;
  codec: string;
  width: number;
  height: number;
  pixFmt: string;
  durationS: number;
  /** Frames counted by decoding the whole stream (`-count_frames`). */
  frames: number;
}

export function ffprobe(file: string): Promise<Probe> {
  const bin = findFfprobe().path;
  const args = ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,pix_fmt,nb_read_frames:format=duration,format_name', '-of', 'json', file];
  return new Promise((resolve, reject) => {
    execFile(bin, args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`ffprobe ${file}: ${stderr || err.message}`));
      const j = JSON.parse(stdout) as {
        streams?: Array<{ codec_name?: string; width?: number; height?: number; pix_fmt?: string; nb_read_frames?: string }>;
        format?: { duration?: string; format_name?: string };
      };
      const s = j.streams?.[0] ?? {};
      resolve({
        formatName: j.format?.format_name ?? '',
        codec: s.codec_name ?? '',
        width: s.width ?? 0,
        height: s.height ?? 0,
        pixFmt: s.pix_fmt ?? '',
        durationS: Number(j.format?.duration ?? NaN),
        frames: Number(s.nb_read_frames ?? NaN),
      });
    });
  });
}

// Local devices: choosing, opening and metering cameras and microphones.

export interface DeviceChoice {
  cameraId: string | null;
  microphoneId: string | null;
  speakerId: string | null;
  cameraOn: boolean;
  microphoneOn: boolean;
}

const ChoiceKey = 'meeting.devices';

export function loadDeviceChoice(): DeviceChoice {
  const fallback: DeviceChoice = { cameraId: null, microphoneId: null, speakerId: null, cameraOn: true, microphoneOn: true };
  try {
    return { ...fallback, ...JSON.parse(localStorage.getItem(ChoiceKey) ?? '{}') };
  } catch {
    return fallback;
  }
}

export function saveDeviceChoice(choice: DeviceChoice): void {
  localStorage.setItem(ChoiceKey, JSON.stringify(choice));
}

export async function listDevices(): Promise<{ cameras: MediaDeviceInfo[]; microphones: MediaDeviceInfo[]; speakers: MediaDeviceInfo[] }> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return {
    cameras: devices.filter(d => d.kind === 'videoinput'),
    microphones: devices.filter(d => d.kind === 'audioinput'),
    speakers: devices.filter(d => d.kind === 'audiooutput'),
  };
}

export const cameraConstraints = (deviceId: string | null): MediaTrackConstraints =>
  ({ ...(deviceId ? { deviceId: { exact: deviceId } } : {}), width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } });

export const microphoneConstraints = (deviceId: string | null): MediaTrackConstraints =>
  ({ ...(deviceId ? { deviceId: { exact: deviceId } } : {}), echoCancellation: true, noiseSuppression: true, autoGainControl: true });

export async function openCamera(deviceId: string | null): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: cameraConstraints(deviceId) });
  return stream.getVideoTracks()[0]!;
}

export async function openMicrophone(deviceId: string | null): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: microphoneConstraints(deviceId) });
  return stream.getAudioTracks()[0]!;
}

/** Explains a getUserMedia failure to a person. */
export function describeMediaError(error: unknown, what: string): string {
  const name = (error as { name?: string })?.name;
  if (name === 'NotAllowedError') return `The browser was not allowed to use your ${what}. Allow it in the address bar, then try again.`;
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return `No ${what} was found.`;
  if (name === 'NotReadableError') return `Your ${what} is in use by another application.`;
  return `Your ${what} could not be opened (${name ?? String(error)}).`;
}

/** Measures a microphone's level (0..1) for a meter; stop() releases the audio graph. */
export class LevelMeter {
  private context: AudioContext;
  private analyser: AnalyserNode;
  private source: MediaStreamAudioSourceNode;
  private buffer: Float32Array<ArrayBuffer>;
  private frame = 0;

  constructor(track: MediaStreamTrack, private readonly onLevel: (level: number) => void) {
    this.context = new AudioContext();
    this.source = this.context.createMediaStreamSource(new MediaStream([track]));
    this.analyser = this.context.createAnalyser();
    this.analyser.fftSize = 512;
    this.buffer = new Float32Array(this.analyser.fftSize);
    this.source.connect(this.analyser);
    const tick = () => {
      this.analyser.getFloatTimeDomainData(this.buffer);
      let sum = 0;
      for (const sample of this.buffer) sum += sample * sample;
      const rms = Math.sqrt(sum / this.buffer.length);
      // Speech sits around -40..-10 dBFS: map that range onto the meter.
      const db = 20 * Math.log10(Math.max(rms, 1e-6));
      this.onLevel(Math.max(0, Math.min(1, (db + 60) / 50)));
      this.frame = requestAnimationFrame(tick);
    };
    this.frame = requestAnimationFrame(tick);
  }

  stop(): void {
    cancelAnimationFrame(this.frame);
    this.source.disconnect();
    void this.context.close();
  }
}

// The apiserver's REST API (docs/api.yaml) as the web app uses it.

export interface User {
  id: number;
  email: string;
  display_name: string;
  role: 'admin' | 'user';
  disabled?: boolean;
}

export interface Meeting {
  id: number;
  room_id: string;
  title: string;
  /** Unix seconds; 0 for an instant meeting. */
  begin_at: number;
  end_at: number;
  invitees?: string[];
  join_code: string;
  join_url: string;
  waiting_room?: boolean;
}

export interface MeetingPreview {
  title: string;
  begin_at: number;
  end_at: number;
  waiting_room: boolean;
  host_name?: string;
}

export interface Admission {
  status: 'admitted';
  identity: string;
  token: string;
  ws_url: string;
  room: string;
  host: boolean;
  /** STUN/TURN servers with time-limited credentials, for people behind firewalls. */
  ice_servers?: RTCIceServer[];
}

export type JoinAnswer = Admission | { status: 'waiting'; ticket: string } | { status: 'denied' };

export interface StoredFile {
  id: string;
  name: string;
  content_type: string;
  size: number;
  sha256?: string;
  uploader?: string;
  created_at?: number | string;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

const SessionKey = 'meeting.session';

export const session = {
  get token(): string | null {
    return localStorage.getItem(SessionKey);
  },
  set(token: string): void {
    localStorage.setItem(SessionKey, token);
  },
  clear(): void {
    localStorage.removeItem(SessionKey);
  },
};

export async function request<T>(method: string, path: string, body?: unknown, bearer: string | null = session.token): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch { /* not JSON: reported below */ }
  if (!response.ok) {
    const error = (data as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(response.status, error?.code ?? `http_${response.status}`, error?.message ?? `${response.status} ${response.statusText}`);
  }
  return data as T;
}

export const api = {
  login: (email: string, password: string) =>
    request<{ token: string; user: User }>('POST', '/auth/login', { email, password }, null),
  logout: () => request<unknown>('POST', '/auth/logout'),
  me: () => request<{ user: User }>('GET', '/me').then(answer => answer.user),
  updateMe: (changes: { display_name?: string; password?: string; current_password?: string }) =>
    request<{ user: User }>('PATCH', '/me', changes).then(answer => answer.user),

  users: () => request<{ users: User[] }>('GET', '/users'),
  inviteUser: (email: string, display_name: string, role: 'user' | 'admin') =>
    request<{ user: User; invite_url: string }>('POST', '/users', { email, display_name, role }),
  updateUser: (id: number, changes: { disabled?: boolean; role?: string }) =>
    request<{ user: User }>('PATCH', `/users/${id}`, changes).then(answer => answer.user),
  deleteUser: (id: number) => request<unknown>('DELETE', `/users/${id}`),
  invite: (token: string) => request<{ email: string; display_name: string }>('GET', `/invites/${encodeURIComponent(token)}`, undefined, null),
  acceptInvite: (token: string, password: string, display_name: string) =>
    request<{ token: string; user: User }>('POST', `/invites/${encodeURIComponent(token)}`, { password, display_name }, null),

  meetings: () => request<{ meetings: Meeting[] }>('GET', '/meetings'),
  createMeeting: (meeting: { title: string; begin_at?: number; end_at?: number; invitees?: string[]; waiting_room?: boolean }) =>
    request<{ meeting: Meeting }>('POST', '/meetings', meeting).then(answer => answer.meeting),
  deleteMeeting: (id: number) => request<unknown>('DELETE', `/meetings/${id}`),

  preview: (code: string) => request<MeetingPreview>('GET', `/join/${encodeURIComponent(code)}`, undefined, null),
  join: (code: string, display_name: string) => request<JoinAnswer>('POST', `/join/${encodeURIComponent(code)}`, { display_name }),
  ticket: (code: string, ticket: string) =>
    request<JoinAnswer>('GET', `/join/${encodeURIComponent(code)}/tickets/${encodeURIComponent(ticket)}`, undefined, null),
};

/** Calls made with the room token the join returned (the participant's own credentials). */
export class RoomApi {
  constructor(readonly room: string, private readonly token: string) {}

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return request<T>(method, path, body, this.token);
  }

  messages() {
    return this.call<{ messages: { from: string; name: string; text: string; time: number }[] }>('GET', `/rooms/${encodeURIComponent(this.room)}/messages?limit=200`);
  }
  waiting() {
    return this.call<{ waiting: { ticket: string; display_name: string; since: number }[] }>('GET', `/rooms/${encodeURIComponent(this.room)}/waiting`);
  }
  admit(ticket: string, admit: boolean) {
    return this.call<unknown>('POST', `/rooms/${encodeURIComponent(this.room)}/waiting/${encodeURIComponent(ticket)}`, { admit });
  }
  removePeer(identity: string) {
    return this.call<unknown>('DELETE', `/rooms/${encodeURIComponent(this.room)}/peers/${encodeURIComponent(identity)}`);
  }
  endForAll() {
    return this.call<unknown>('DELETE', `/rooms/${encodeURIComponent(this.room)}`);
  }
  files() {
    return this.call<{ files: StoredFile[] }>('GET', `/rooms/${encodeURIComponent(this.room)}/files`);
  }
  startUpload(name: string, content_type: string, size: number) {
    return this.call<{ file_id: string; upload_url: string; expires_at: number }>('POST', `/rooms/${encodeURIComponent(this.room)}/files`, { name, content_type, size });
  }
  completeUpload(fileId: string) {
    return this.call<StoredFile>('POST', `/files/${encodeURIComponent(fileId)}/complete`);
  }
  fileInfo(fileId: string) {
    return this.call<StoredFile & { download_url: string }>('GET', `/files/${encodeURIComponent(fileId)}`);
  }
  minutes() {
    return this.call<{ read_url: string; save_url: string; versions_url: string }>('POST', `/rooms/${encodeURIComponent(this.room)}/minutes`);
  }
}

/** PUTs a file to a signed upload URL, reporting progress (fetch cannot report upload progress). */
export function uploadWithProgress(url: string, file: File, contentType: string, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.setRequestHeader('Content-Type', contentType);
    xhr.upload.onprogress = event => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      let message = `upload failed (${xhr.status})`;
      try {
        message = JSON.parse(xhr.responseText)?.error?.message ?? message;
      } catch { /* keep the status */ }
      reject(new ApiError(xhr.status, 'upload_failed', message));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload was interrupted'));
    xhr.send(file);
  });
}

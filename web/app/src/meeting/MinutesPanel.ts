// The meeting minutes: a Markdown document kept in versions on the fsserver. A save names the
// version it was based on; when someone saved in between, the conflict is shown, never overwritten.
import type { RoomApi } from '../api.js';
import { clear, formatTime, h, toast } from '../dom.js';

interface Grants { read_url: string; save_url: string; versions_url: string }

export class MinutesPanel {
  readonly element: HTMLElement;
  private readonly editor: HTMLTextAreaElement;
  private readonly status: HTMLElement;
  private readonly conflict: HTMLElement;
  private readonly versions: HTMLElement;
  private readonly saveButton: HTMLButtonElement;
  private base = 0;
  private savedText = '';
  private grants: Grants | null = null;

  constructor(private readonly roomApi: RoomApi, private readonly onSaved: (version: number) => void) {
    this.editor = h('textarea', { class: 'minutes-editor', placeholder: '# Minutes\n\n- Decisions\n- Action items', 'aria-label': 'Meeting minutes', spellcheck: true });
    this.status = h('span', { class: 'muted small grow', role: 'status' });
    this.conflict = h('div', { class: 'conflict', hidden: true, role: 'alert' });
    this.versions = h('ol', { class: 'version-list' });
    this.saveButton = h('button', { class: 'button primary', onclick: () => this.save(false) }, 'Save');
    this.editor.addEventListener('input', () => this.paintStatus());
    this.editor.addEventListener('keydown', event => {
      if ((event.ctrlKey || event.metaKey) && event.key === 's') { event.preventDefault(); void this.save(false); }
    });
    this.element = h('div', { class: 'panel minutes-panel' }, this.conflict, this.editor,
      h('div', { class: 'row' }, this.status, this.saveButton),
      h('details', { class: 'versions', ontoggle: () => { void this.loadVersions(); } }, h('summary', {}, 'Earlier versions'), this.versions));
  }

  get dirty(): boolean {
    return this.editor.value !== this.savedText;
  }

  /** Loads the latest version unless the editor holds unsaved changes. */
  async load(force = false): Promise<void> {
    if (this.dirty && !force) {
      this.status.textContent = 'A newer version was saved by someone else; save to see whether it conflicts.';
      return;
    }
    try {
      const { text, version } = await this.fetchVersion();
      this.editor.value = text;
      this.savedText = text;
      this.base = version;
      this.conflict.hidden = true;
      this.paintStatus();
    } catch (e) {
      this.status.textContent = `The minutes could not be loaded: ${(e as Error).message}`;
    }
  }

  private async grant(): Promise<Grants> {
    // Grants expire; fetch fresh ones for each use (cheap: the apiserver only signs).
    this.grants = await this.roomApi.minutes();
    return this.grants;
  }

  private async fetchVersion(version?: number): Promise<{ text: string; version: number }> {
    const grants = await this.grant();
    if (!version) {
      // Ask which version is the latest first: a room without minutes has nothing to fetch.
      const listing = await fetch(grants.versions_url);
      if (listing.ok && Number((await listing.json()).latest ?? 0) === 0) return { text: '', version: 0 };
    }
    const response = await fetch(grants.read_url + (version ? `&version=${version}` : ''));
    if (response.status === 404) return { text: '', version: 0 };
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    return { text: await response.text(), version: Number(response.headers.get('X-Minutes-Version') ?? 0) };
  }

  async save(overwrite: boolean): Promise<void> {
    this.saveButton.disabled = true;
    try {
      const grants = await this.grant();
      const text = this.editor.value;
      const response = await fetch(`${grants.save_url}&base=${this.base}`, { method: 'PUT', headers: { 'Content-Type': 'text/markdown; charset=utf-8' }, body: text });
      const body = await response.json().catch(() => ({}));
      if (response.status === 409) {
        const latest = Number(body.latest ?? 0);
        if (overwrite) {
          this.base = latest;
          await this.save(false);
          return;
        }
        this.showConflict(latest);
        return;
      }
      if (!response.ok) throw new Error(body?.error?.message ?? body?.error ?? `${response.status}`);
      this.base = Number(body.version);
      this.savedText = text;
      this.conflict.hidden = true;
      this.paintStatus();
      this.onSaved(this.base);
    } catch (e) {
      toast(`The minutes were not saved: ${(e as Error).message}`, 'error', 8000);
    } finally {
      this.saveButton.disabled = false;
    }
  }

  private showConflict(latest: number): void {
    clear(this.conflict);
    this.conflict.hidden = false;
    this.conflict.append(
      h('p', {}, h('strong', {}, 'Someone else saved the minutes while you were editing'), ` (version ${latest}; yours was based on version ${this.base}). Your text is still here.`),
      h('div', { class: 'row wrap' },
        h('button', {
          class: 'button ghost small', onclick: async () => {
            const mine = this.editor.value;
            await navigator.clipboard?.writeText(mine).catch(() => undefined);
            await this.load(true);
            toast('Loaded their version; your text is on the clipboard');
          },
        }, 'Load theirs'),
        h('button', { class: 'button danger small', onclick: () => this.save(true) }, 'Replace with mine')));
  }

  private paintStatus(): void {
    this.status.textContent = this.dirty ? 'Unsaved changes' : this.base ? `Saved · version ${this.base}` : 'Nothing saved yet';
  }

  private async loadVersions(): Promise<void> {
    try {
      const grants = await this.grant();
      const response = await fetch(grants.versions_url);
      if (!response.ok) throw new Error(`${response.status}`);
      const { versions } = await response.json() as { versions: { version: number; author?: string; saved_at?: number; size?: number }[] };
      clear(this.versions);
      for (const v of [...versions].reverse()) {
        this.versions.append(h('li', {}, h('button', {
          class: 'link', onclick: async () => {
            const { text } = await this.fetchVersion(v.version);
            const viewer = h('pre', { class: 'version-view' }, text || '(empty)');
            this.versions.querySelector('.version-view')?.remove();
            this.versions.append(viewer);
          },
        }, `Version ${v.version}`), h('span', { class: 'muted small' }, ` ${v.author ?? ''} ${v.saved_at ? formatTime(v.saved_at) : ''}`)));
      }
      if (!versions.length) this.versions.append(h('li', { class: 'muted small' }, 'No versions yet.'));
    } catch (e) {
      clear(this.versions);
      this.versions.append(h('li', { class: 'form-error' }, (e as Error).message));
    }
  }
}

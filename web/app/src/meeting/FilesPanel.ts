// Files shared in the meeting: upload to the fsserver with progress, list, download.
import { RoomApi, uploadWithProgress, type StoredFile } from '../api.js';
import { clear, formatBytes, formatTime, h, icon, toast } from '../dom.js';

// What the fsserver accepts (docs/fs.md); the browser's guess is used when it has one.
const TypesByExtension: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', avif: 'image/avif', bmp: 'image/bmp',
  pdf: 'application/pdf', txt: 'text/plain', md: 'text/markdown', csv: 'text/csv', rtf: 'application/rtf',
  doc: 'application/msword', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint', pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text', ods: 'application/vnd.oasis.opendocument.spreadsheet', odp: 'application/vnd.oasis.opendocument.presentation',
};

export function contentTypeOf(file: File): string {
  const extension = file.name.split('.').pop()?.toLowerCase() ?? '';
  return file.type || TypesByExtension[extension] || 'application/octet-stream';
}

export class FilesPanel {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly uploads: HTMLElement;
  private readonly picker: HTMLInputElement;

  constructor(private readonly roomApi: RoomApi, private readonly onShared: (file: StoredFile) => void) {
    this.list = h('ul', { class: 'file-list', 'aria-label': 'Shared files' });
    this.uploads = h('div', { class: 'uploads' });
    this.picker = h('input', { type: 'file', multiple: true, hidden: true, 'aria-label': 'Choose files to share' });
    this.picker.onchange = () => {
      for (const file of this.picker.files ?? []) void this.upload(file);
      this.picker.value = '';
    };
    this.element = h('div', { class: 'panel files-panel' },
      h('button', { class: 'button primary wide', onclick: () => this.picker.click() }, icon('upload'), 'Share a file'),
      this.picker, this.uploads, this.list,
      h('p', { class: 'muted small' }, 'Images, PDF, office documents and text. Everyone in the meeting can download them.'));
    this.element.addEventListener('dragover', event => { event.preventDefault(); this.element.classList.add('drop'); });
    this.element.addEventListener('dragleave', () => this.element.classList.remove('drop'));
    this.element.addEventListener('drop', event => {
      event.preventDefault();
      this.element.classList.remove('drop');
      for (const file of event.dataTransfer?.files ?? []) void this.upload(file);
    });
  }

  async refresh(): Promise<void> {
    try {
      const { files } = await this.roomApi.files();
      clear(this.list);
      if (!files.length) this.list.append(h('li', { class: 'muted small' }, 'No files shared yet.'));
      for (const file of files) this.list.append(this.row(file));
    } catch (e) {
      clear(this.list);
      this.list.append(h('li', { class: 'form-error' }, `Files could not be listed: ${(e as Error).message}`));
    }
  }

  /** Uploads one file: a signed URL from the apiserver, the bytes to the fsserver, then confirm. */
  async upload(file: File): Promise<StoredFile | null> {
    const bar = h('progress', { max: 1, value: 0 });
    const label = h('span', { class: 'grow ellipsis' }, file.name);
    const row = h('div', { class: 'upload-row' }, label, bar);
    this.uploads.append(row);
    try {
      const type = contentTypeOf(file);
      const grant = await this.roomApi.startUpload(file.name, type, file.size);
      await uploadWithProgress(grant.upload_url, file, type, fraction => { bar.value = fraction; });
      const stored = await this.roomApi.completeUpload(grant.file_id);
      toast(`Shared ${file.name}`);
      this.onShared(stored);
      await this.refresh();
      return stored;
    } catch (e) {
      toast(`${file.name} could not be shared: ${(e as Error).message}`, 'error', 8000);
      return null;
    } finally {
      row.remove();
    }
  }

  private row(file: StoredFile): HTMLElement {
    const created = typeof file.created_at === 'number' ? formatTime(file.created_at) : '';
    return h('li', { class: 'file-row', 'data-file-id': file.id },
      h('span', { class: 'file-icon' }, icon('file')),
      h('span', { class: 'grow' }, h('span', { class: 'ellipsis file-name' }, file.name),
        h('span', { class: 'muted small' }, `${formatBytes(file.size)}${file.uploader ? ` · ${file.uploader}` : ''}${created ? ` · ${created}` : ''}`)),
      h('button', { class: 'button ghost small', onclick: () => this.download(file) }, 'Download'));
  }

  private async download(file: StoredFile): Promise<void> {
    try {
      const info = await this.roomApi.fileInfo(file.id);
      const link = h('a', { href: info.download_url, download: file.name, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
    } catch (e) {
      toast(`The download failed: ${(e as Error).message}`, 'error');
    }
  }
}

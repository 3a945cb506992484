import type Anthropic from '@anthropic-ai/sdk';
import type { BetaFileMetadata } from '@anthropic-ai/sdk/resources/beta/files';
import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { describeError } from './api-client';
import { ErrorNote } from './error-note';
import { listAll, useLoaded } from './use-loaded';

/** Sizes as people read them. */
function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Saves a file's content: the download goes through the SDK (it needs the API key, which a plain link cannot send),
 * then the browser saves the bytes under the file's name.
 */
async function download(client: Anthropic, file: BetaFileMetadata): Promise<void> {
  const response = await client.beta.files.download(file.id);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = file.filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The files: upload one, list them, download each. */
export function FilesPage(props: { client: Anthropic }): JSX.Element {
  const { client } = props;
  const files = useLoaded(() => listAll(client.beta.files.list({ limit: 100 })), [client]);
  const [chosen, setChosen] = useState<File | null>(null);
  const [uploading, setUploading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const upload = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (chosen === null) return;
    const form = event.currentTarget as HTMLFormElement;
    setError(null);
    setUploading(true);
    try {
      await client.beta.files.upload({ file: chosen });
      form.reset();
      setChosen(null);
      files.reload();
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setUploading(false);
    }
  };
  return (
    <section aria-labelledby="files-heading">
      <h1 id="files-heading">Files</h1>
      <form class="stacked" aria-labelledby="upload-heading" onSubmit={(event) => void upload(event)}>
        <h2 id="upload-heading">Upload a file</h2>
        <label for="file-input">File</label>
        <input
          id="file-input"
          type="file"
          required
          onChange={(event) => setChosen(event.currentTarget.files?.[0] ?? null)}
        />
        <button type="submit" disabled={chosen === null || uploading}>
          {uploading ? 'Uploading…' : 'Upload'}
        </button>
        <ErrorNote error={error} />
      </form>
      <ErrorNote error={files.error} />
      {files.value === null ? (
        <p>Loading…</p>
      ) : files.value.length === 0 ? (
        <p>No files yet.</p>
      ) : (
        <table aria-label="Files">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Size</th>
              <th scope="col">Uploaded</th>
              <th scope="col">Download</th>
            </tr>
          </thead>
          <tbody>
            {files.value.map((file) => (
              <tr key={file.id} data-file-id={file.id}>
                <td>{file.filename}</td>
                <td>{file.mime_type}</td>
                <td>{size(file.size_bytes)}</td>
                <td>
                  <time dateTime={file.created_at}>{new Date(file.created_at).toLocaleString()}</time>
                </td>
                <td>
                  <button
                    type="button"
                    aria-label={`Download ${file.filename}`}
                    onClick={() =>
                      void download(client, file).catch((caught: unknown) => setError(describeError(caught)))
                    }
                  >
                    Download
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

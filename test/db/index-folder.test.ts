import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../src/db/database.js';
import { indexFolder, readUids } from '../../src/db/index-folder.js';
import { createDataset, setValue, writePart10 } from '../../src/dicom/index.js';
import { tempHome } from './helpers.js';

const test = suite('db: index a folder of DICOM files');
const SAMPLES = fileURLToPath(new URL('../fixtures/dicom-samples/', import.meta.url));
const dicomSamples = readdirSync(SAMPLES).filter((f) => f.endsWith('.dcm'));

test('the sample folder: every .dcm indexed by its UIDs, README skipped as not DICOM; a second pass adds nothing', async () => {
  const { home, cleanup } = tempHome();
  try {
    const db = await openDatabase({ home });
    const skipped: string[] = [];
    const c = await indexFolder(db, SAMPLES, { onSkip: (f) => skipped.push(path.basename(f)) });
    assert.is(c.files, readdirSync(SAMPLES).length);
    assert.is(c.added, dicomSamples.length);
    assert.is(c.notDicom, 1);
    assert.equal(skipped, ['README.md']);
    const rdsr = await readUids(path.join(SAMPLES, 'CT-RDSR-GEPixelMed.dcm'));
    assert.ok(rdsr?.study && rdsr.sopInstance);
    assert.is(rdsr.sopClass, '1.2.840.10008.5.1.4.1.1.88.67');
    assert.ok((await db.heldInstances(rdsr.study))?.has(rdsr.sopInstance));
    const entry = db.heldStudy(rdsr.study)?.[rdsr.series!]?.[rdsr.sopInstance];
    assert.is(entry?.file, path.join(SAMPLES, 'CT-RDSR-GEPixelMed.dcm'));
    assert.is(entry?.queryId, undefined);
    const again = await indexFolder(db, SAMPLES);
    assert.equal([again.added, again.alreadyHeld], [0, dicomSamples.length]);
    assert.is(db.heldCounts().instances, dicomSamples.length);
    await db.close();
  } finally {
    cleanup();
  }
});

test('nested folders up to maxDepth, symlinks, truncated and UID-less files, UIDs after a large element', async () => {
  const { home, cleanup } = tempHome();
  try {
    const dir = path.join(home, 'in');
    const deep = path.join(dir, 'a', 'b', 'c');
    mkdirSync(deep, { recursive: true });
    copyFileSync(path.join(SAMPLES, dicomSamples[0]!), path.join(dir, 'a', 'one.dcm'));
    copyFileSync(path.join(SAMPLES, dicomSamples[1]!), path.join(deep, 'deep.dcm'));
    writeFileSync(path.join(dir, 'notes.txt'), 'hello');
    writeFileSync(path.join(dir, 'tiny'), Buffer.alloc(3));
    symlinkSync(path.join(dir, 'a'), path.join(dir, 'loop'));
    symlinkSync(path.join(dir, 'a', 'one.dcm'), path.join(dir, 'link.dcm'));
    // UIDs after a 100 KB element: more than the first chunk read.
    const ds = createDataset();
    setValue(ds, 0x00080016, '1.2.840.10008.5.1.4.1.1.7');
    setValue(ds, 0x00080018, '1.2.3.4.5.6');
    setValue(ds, 0x00091010, Buffer.alloc(100_000, 1), 'OB');
    setValue(ds, 0x0020000d, '1.2.3');
    setValue(ds, 0x0020000e, '1.2.3.4');
    writeFileSync(path.join(dir, 'big.dcm'), writePart10(ds));
    // No StudyInstanceUID.
    const noStudy = createDataset();
    setValue(noStudy, 0x00080016, '1.2.840.10008.5.1.4.1.1.7');
    setValue(noStudy, 0x00080018, '1.2.3.4.5.7');
    writeFileSync(path.join(dir, 'nostudy.dcm'), writePart10(noStudy));

    const db = await openDatabase({ home });
    const reasons = new Map<string, string>();
    const c = await indexFolder(db, dir, { maxDepth: 2, onSkip: (f, why) => reasons.set(path.relative(dir, f), why) });
    assert.equal(
      { added: c.added, alreadyHeld: c.alreadyHeld, notDicom: c.notDicom, missingUids: c.missingUids, skippedFolders: c.skippedFolders },
      { added: 2, alreadyHeld: 1, notDicom: 2, missingUids: 1, skippedFolders: 2 },
    );
    assert.match(reasons.get(path.join('a', 'b', 'c'))!, /deeper than 2/);
    assert.match(reasons.get('loop')!, /not followed/);
    assert.match(reasons.get('nostudy.dcm')!, /no study, series UID/);
    assert.ok((await db.heldInstances('1.2.3'))?.has('1.2.3.4.5.6'));
    const all = await indexFolder(db, dir);
    assert.is(all.added, 1, 'the deep file, with the default depth');
    await db.close();
  } finally {
    cleanup();
  }
});

test.run();

import { describe, expect, it } from 'vitest';
import { applySessionUpdate } from '../workflows/session-update';

describe('applySessionUpdate', () => {
  const current = { title: 'first', metadata: { team: 'a', drop: 'x' } };

  it('reports only the fields that changed, metadata as the whole bag', () => {
    expect(applySessionUpdate(current, { title: 'renamed' })).toEqual({
      details: { title: 'renamed', metadata: current.metadata },
      changed: { title: 'renamed' },
    });
    expect(applySessionUpdate(current, { title: 'first', metadata: { team: 'b', drop: null } })).toEqual({
      details: { title: 'first', metadata: { team: 'b' } },
      changed: { metadata: { team: 'b' } },
    });
  });

  it('an update that changes nothing is no change, so no session.updated', () => {
    expect(applySessionUpdate(current, { title: 'first', metadata: { team: 'a', absent: null } }).changed).toBeNull();
    expect(applySessionUpdate(current, {}).changed).toBeNull();
  });

  it('clearing the title or every metadata key is a change; an emptied bag is left out of the event', () => {
    expect(applySessionUpdate(current, { title: null }).changed).toEqual({ title: null });
    const cleared = applySessionUpdate(current, { metadata: { team: null, drop: null } });
    expect(cleared.details.metadata).toEqual({});
    expect(cleared.changed).toEqual({});
  });
});

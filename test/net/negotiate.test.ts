import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { acceptedContexts, buildAssociateRq, negotiateAsAcceptor, APPLICATION_CONTEXT_NAME } from '../../src/net/negotiate.js';
import type { AssociateAc, AssociateRq } from '../../src/net/pdu.js';

const test = suite('negotiation');
const IMPLICIT = '1.2.840.10008.1.2';
const EXPLICIT = '1.2.840.10008.1.2.1';
const FIND = '1.2.840.10008.5.1.4.1.2.2.1';
const MOVE = '1.2.840.10008.5.1.4.1.2.2.2';

test('the request proposes each context with odd ids and our defaults', () => {
  const rq = buildAssociateRq({ callingAeTitle: 'A', calledAeTitle: 'B', contexts: [{ abstractSyntax: FIND }, { abstractSyntax: MOVE, transferSyntaxes: [EXPLICIT] }] });
  assert.equal(rq.presentationContexts, [
    { id: 1, abstractSyntax: FIND, transferSyntaxes: [IMPLICIT, EXPLICIT] },
    { id: 3, abstractSyntax: MOVE, transferSyntaxes: [EXPLICIT] },
  ]);
  assert.is(rq.applicationContextName, APPLICATION_CONTEXT_NAME);
  assert.is(rq.userInformation.maxLength, 65536);
  assert.ok(rq.userInformation.implementationClassUid.startsWith('2.25.'));
});

test('accepted contexts: only accepted ones, with a proposed transfer syntax', () => {
  const rq = buildAssociateRq({ callingAeTitle: 'A', calledAeTitle: 'B', contexts: [{ abstractSyntax: FIND }, { abstractSyntax: MOVE }, { abstractSyntax: '1.2.3' }] });
  const ac: AssociateAc = {
    type: 'A-ASSOCIATE-AC', protocolVersion: 1, calledAeTitle: 'B', callingAeTitle: 'A', applicationContextName: APPLICATION_CONTEXT_NAME,
    presentationContexts: [{ id: 1, result: 0, transferSyntax: EXPLICIT }, { id: 3, result: 0, transferSyntax: '1.2.840.10008.1.2.4.50' }, { id: 5, result: 3 }],
    userInformation: { maxLength: 0, implementationClassUid: '1', roleSelections: [], extendedNegotiations: [] },
  };
  assert.equal(acceptedContexts(rq, ac), [{ id: 1, abstractSyntax: FIND, transferSyntax: EXPLICIT }]);
});

const request = (over: Partial<AssociateRq> = {}): AssociateRq => ({ ...buildAssociateRq({ callingAeTitle: 'CALLER', calledAeTitle: 'US', contexts: [{ abstractSyntax: FIND, transferSyntaxes: [EXPLICIT, IMPLICIT] }, { abstractSyntax: MOVE, transferSyntaxes: ['1.2.840.10008.1.2.2'] }, { abstractSyntax: '9.9' }] }), ...over });

test('acceptor: our preference order decides the transfer syntax; results 0, 4, 3', () => {
  const n = negotiateAsAcceptor(request(), { aeTitle: 'US', abstractSyntaxes: new Map([[FIND, [IMPLICIT, EXPLICIT]], [MOVE, [IMPLICIT]]]) });
  assert.ok(n.accepted);
  if (!n.accepted) return;
  assert.equal(n.ac.presentationContexts.map((c) => [c.id, c.result, c.transferSyntax]), [[1, 0, IMPLICIT], [3, 4, '1.2.840.10008.1.2.2'], [5, 3, IMPLICIT]]);
  assert.equal(n.contexts, [{ id: 1, abstractSyntax: FIND, transferSyntax: IMPLICIT }]);
});

test('acceptor: rejections per PS3.8 Table 9-21', () => {
  const policy = { aeTitle: 'US', checkCalledAeTitle: true, allowedCallingAeTitles: ['CALLER'], abstractSyntaxes: new Map([[FIND, [IMPLICIT]]]) };
  const rj = (rq: AssociateRq) => {
    const n = negotiateAsAcceptor(rq, policy);
    assert.not.ok(n.accepted);
    return n.accepted ? undefined : [n.rj.result, n.rj.source, n.rj.reason];
  };
  assert.equal(rj(request({ calledAeTitle: 'OTHER' })), [1, 1, 7]);
  assert.equal(rj(request({ callingAeTitle: 'STRANGER' })), [1, 1, 3]);
  assert.equal(rj(request({ applicationContextName: '1.2.3' })), [1, 1, 2]);
  assert.equal(rj(request({ protocolVersion: 2 })), [1, 2, 2]);
});

test('acceptor: the function form sees what the peer proposed', () => {
  const n = negotiateAsAcceptor(request(), { aeTitle: 'US', abstractSyntaxes: (_a, proposed) => [...proposed].reverse() });
  assert.ok(n.accepted);
  if (n.accepted) assert.equal(n.contexts.map((c) => c.transferSyntax), [IMPLICIT, '1.2.840.10008.1.2.2', EXPLICIT]);
});

test.run();

// The intake baseline: fastify answering 202 without storing anything, in its own process, so the
// same load client measures what HTTP and JSON parsing alone cost on this machine.
// Usage: node --import tsx bench/bare-intake.ts <port>
import Fastify from 'fastify';

const app = Fastify();
app.post('/v1/messages', async (_request, reply) => reply.status(202).send({ id: 'msg_bare', receiverIds: [] }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
console.log('ready');

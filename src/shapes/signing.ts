import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OrNull, Response, StringEnum } from './common.js';

/** How deliveries are signed, and the rotation of a receiver's key (issue 17). */

export const SIGNATURE_SCHEMES = ['hmac-sha256', 'ed25519'] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

export const PREVIOUS_SECRET_EXPIRES_AT = {
  description: 'while a rotation overlaps: when the previous key stops signing (Redis clock); until then every delivery carries both signatures, new first',
};

const verificationKey = Type.String({
  description: 'what the receiver verifies with: the `whsec_` secret (hmac-sha256), or the public key `whpk_<base64>` (ed25519)',
});

/** GET /v1/receivers/:id/secret */
export const ReceiverSecretSchema = Response(
  Type.Object({
    secret: verificationKey,
    signatureScheme: StringEnum(SIGNATURE_SCHEMES),
    previousSecretExpiresAt: Nullable('string', PREVIOUS_SECRET_EXPIRES_AT),
  }),
);
export type ReceiverSecret = Static<typeof ReceiverSecretSchema>;

/** POST /v1/receivers/:id/secret/rotate */
export const RotateSecretSchema = OrNull(
  Type.Object(
    {
      secret: Type.Optional(
        Type.String({
          maxLength: 128,
          description:
            'the new key (`whsec_…` or `whsk_…`: its prefix names the scheme, so a rotation may also change scheme); generated in the receiver’s scheme when absent',
        }),
      ),
      overlapMs: Type.Optional(
        Type.Integer({
          minimum: 0,
          maximum: 30 * 86_400_000,
          description: 'how long the previous key keeps signing beside the new one (default 86400000, 24 h; 0: at once only the new one)',
        }),
      ),
    },
    { additionalProperties: false },
  ),
);
export type RotateSecret = Static<typeof RotateSecretSchema>;

export const RotatedSecretResponse = Response(
  Type.Object({ secret: verificationKey, previousSecretExpiresAt: Nullable('string', PREVIOUS_SECRET_EXPIRES_AT) }),
);
export type RotatedSecret = Static<typeof RotatedSecretResponse>;

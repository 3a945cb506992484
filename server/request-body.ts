import { z } from 'zod';

/**
 * A request body object with `shape`'s fields only: an unknown field fails with an issue at its own path, so the 400
 * names it (`extra: unknown field`) rather than the body as a whole.
 */
export function requestBody<Shape extends z.ZodRawShape>(
  shape: Shape,
): z.ZodType<z.output<z.ZodObject<Shape, z.core.$loose>>, z.input<z.ZodObject<Shape, z.core.$loose>>> {
  // The refinement's rule is said in the JSON Schema too (`additionalProperties`), for the OpenAPI document.
  return z
    .object(shape)
    .loose()
    .superRefine((value, context) => {
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(shape, key)) context.addIssue({ code: 'custom', path: [key], message: 'unknown field' });
      }
    })
    .meta({ additionalProperties: false });
}

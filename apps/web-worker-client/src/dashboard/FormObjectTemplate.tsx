import { getDefaultRegistry } from '@rjsf/core';
import type { ObjectFieldTemplateProps } from '@rjsf/utils';
import { UNION_OPTION } from './launch-form-schema.js';

const DefaultObjectTemplate = getDefaultRegistry().templates.ObjectFieldTemplate;

/**
 * rjsf's object template, except that an object whose every field is hidden
 * renders nothing: a union option with no parameter besides its (hidden)
 * discriminator, such as `partition: iid` or `aggregation: mean`, would
 * otherwise leave an empty box under its selector; and a union option's box
 * has no heading, since the selector above it shows the option's name.
 */
export function FormObjectTemplate(props: ObjectFieldTemplateProps) {
  const { properties, schema } = props;
  if (properties.length > 0 && properties.every((property) => property.hidden)) return null;
  if (UNION_OPTION in schema) return <DefaultObjectTemplate {...props} title="" />;
  return <DefaultObjectTemplate {...props} />;
}

/**
 * Dot paths ("A.B[0].C") into a request body: presence and assignment with the real server's
 * semantics (a node of the wrong type on the way is a structural conflict, as Python's TypeError is).
 */
import { isObj, type JsonObject } from '../json';
import { pyTypeName } from '../python';

type Obj = JsonObject;

/** A structural conflict (Python TypeError in the real server): becomes MALFORMED_REQUEST. */
export class StructuralConflict extends Error {}

function segments(path: string): { key: string; index?: number }[] {
  return path.split('.').map((seg) => {
    const m = /^([^[]*)\[(\d+)\]$/.exec(seg);
    return m ? { key: m[1]!, index: Number(m[2]) } : { key: seg };
  });
}

/** A value is there: the path resolves, and to neither null nor blank text (0 and false count). */
export function fieldExists(data: unknown, path: string): boolean {
  let cur: unknown = data;
  for (const { key, index } of segments(path)) {
    if (!isObj(cur) || !Object.hasOwn(cur, key)) return false;
    cur = cur[key];
    if (index !== undefined) {
      if (!Array.isArray(cur) || cur.length <= index) return false;
      cur = cur[index];
    }
  }
  if (cur === null || cur === undefined) return false;
  return !(typeof cur === 'string' && cur.trim() === '');
}

/** Set a value, creating missing objects/lists; a node of the wrong type is a structural conflict. */
export function setField(data: Obj, path: string, value: unknown): void {
  const segs = segments(path);
  let cur: Obj = data;
  for (const { key, index } of segs.slice(0, -1)) {
    if (!Object.hasOwn(cur, key)) cur[key] = index === undefined ? {} : [];
    const target = cur[key];
    if (index !== undefined) {
      if (!Array.isArray(target)) {
        throw new StructuralConflict(
          `Expected list at '${key}' in path '${path}', got ${pyTypeName(target)}`,
        );
      }
      while (target.length <= index) target.push({});
      const item: unknown = target[index];
      if (!isObj(item)) {
        throw new StructuralConflict(
          `Expected dict at '${key}[${index}]' in path '${path}', got ${pyTypeName(item)}`,
        );
      }
      cur = item;
    } else {
      if (!isObj(target)) {
        throw new StructuralConflict(
          `Expected dict at '${key}' in path '${path}', got ${pyTypeName(target)}`,
        );
      }
      cur = target;
    }
  }
  const last = segs.at(-1)!;
  if (last.index === undefined) {
    cur[last.key] = value;
    return;
  }
  if (!Object.hasOwn(cur, last.key)) cur[last.key] = [];
  const list = cur[last.key];
  if (!Array.isArray(list)) {
    throw new StructuralConflict(`Expected list at '${last.key}' in path '${path}', got ${pyTypeName(list)}`);
  }
  while (list.length <= last.index) list.push(null);
  list[last.index] = value;
}

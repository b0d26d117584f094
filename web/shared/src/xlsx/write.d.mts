export interface Sheet {
  name: string
  header?: string[]
  rows?: (string | number | null | undefined)[][]
  widths?: number[]
  textColumns?: number[]
}
export function crc32(bytes: Uint8Array): number
export function zip(files: { name: string; data: Uint8Array }[]): Uint8Array
export function columnName(i: number): string
export function xlsx(sheets: Sheet[]): Uint8Array
export const XLSX_TYPE: string

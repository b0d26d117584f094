// Household rows for an import, as a township's sheet has them: valid
// 18-digit ID numbers (GB 11643 check character), fresh on every run so a
// second run against the same stack registers new households.
import { xlsx } from '../../shared/src/xlsx/write.mjs';

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

/** The check character of the first 17 digits. */
export function checkChar(body17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(body17[i]) * WEIGHTS[i];
  return CHECK[sum % 11];
}

/** A valid ID number: `area` (6 digits), a birth day, a random sequence. */
export function idNumber(area, birth = '19700101', seq = Math.floor(Math.random() * 1000)) {
  const body = `${area}${birth}${String(seq).padStart(3, '0')}`;
  return body + checkChar(body);
}

export const HEADER = ['户主姓名', '身份证号', '联系电话', '所属乡镇', '所属村', '村民小组', '家庭住址', '家庭人口', '标签'];

const SURNAMES = ['周', '吴', '郑', '王', '冯', '陈', '褚', '卫'];
const GIVEN = ['建国', '秀英', '志强', '桂兰', '德明', '春花', '国庆', '玉梅'];

/**
 * A workbook of `good` households in `village` ({code, name}) of
 * `township` ({name}), then one bad row (an ID number whose check
 * character is wrong): the bad row is row `good + 2` as Excel numbers it.
 */
export function householdWorkbook({ township, village, good = 5, area = '430426' }) {
  const stamp = Date.now() % 100000;
  const rows = [];
  for (let i = 0; i < good; i++) {
    const birth = `19${50 + ((stamp + i) % 45)}0${1 + (i % 9)}1${i % 10}`;
    rows.push([
      `${SURNAMES[i % SURNAMES.length]}${GIVEN[(i + stamp) % GIVEN.length]}`,
      idNumber(area, birth, (stamp + i * 7) % 1000),
      `139${String(10000000 + ((stamp * 13 + i) % 89999999)).slice(0, 8)}`,
      township.name,
      village.name,
      `${(i % 5) + 1}组`,
      `${village.name}${(i % 5) + 1}组${10 + i}号`,
      (i % 5) + 1,
      i % 2 ? '脱贫户' : '',
    ]);
  }
  const badBody = `${area}19800101${String(stamp % 1000).padStart(3, '0')}`;
  const right = checkChar(badBody);
  const wrong = right === '0' ? '1' : '0';
  rows.push(['错误示例', badBody + wrong, '', township.name, village.name, '1组', '', 2, '']);
  return {
    bytes: xlsx([{ name: '农户花名册', header: HEADER, rows, widths: [12, 22, 14, 12, 14, 10, 28, 10, 12], textColumns: [1, 2] }]),
    badRow: good + 2,
    expected: `校验位错误：最后一位应为${right}，实际为${wrong}`,
  };
}

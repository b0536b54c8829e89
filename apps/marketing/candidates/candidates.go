// Package candidates reads a campaign's candidate list from an .xlsx file
// (DOMAIN 3.2: staff prepare the list in Excel). It only reads and checks
// the sheet; what is stored, and whether a customer is already listed, is
// the store's business. It lives apart from domain because it needs excelize.
package candidates

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/harvest/harvest/apps/marketing/domain"
)

// MaxRows bounds the data rows of one file: goods-gift lists are small
// (DOMAIN 3.2), and a list this long is a wrong file, not a campaign.
const MaxRows = 200_000

// Invalid is a row that names no usable customer id.
type Invalid struct {
	Row    int    // 1-based row number as Excel shows it
	Reason string // for people
}

// Sheet is what a candidate file holds.
type Sheet struct {
	SheetName     string
	HeaderRow     int
	Column        string   // the header text of the customer id column
	CustomerIDs   []string // valid ids, first occurrence only, in file order
	DuplicateRows []int    // rows repeating an id met earlier in the file
	Invalid       []Invalid
	DataRows      int // non-empty rows below the header
}

// headers are the accepted names of the customer id column, compared after
// lowercasing and dropping spaces, '_' and '-'.
var headers = map[string]bool{
	"customerid": true, "customer": true, "userid": true, "memberid": true,
	"客户id": true, "客户编号": true, "用户id": true, "会员id": true, "会员编号": true,
}

func normHeader(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "", "_", "", "-", "", "\u3000", "").Replace(s)
}

// Parse reads the first sheet of an .xlsx file. The header is the first
// non-empty row and must have a customer id column; every later non-empty
// row is a candidate, a duplicate or invalid. A file that is not an .xlsx,
// has no sheet, no header or no customer id column fails with
// domain.ErrMalformedFile, and then nothing is to be imported.
func Parse(file []byte) (Sheet, error) {
	f, err := excelize.OpenReader(bytes.NewReader(file), excelize.Options{RawCellValue: true})
	if err != nil {
		return Sheet{}, fmt.Errorf("%w: not an .xlsx workbook: %v", domain.ErrMalformedFile, err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return Sheet{}, fmt.Errorf("%w: the workbook has no sheet", domain.ErrMalformedFile)
	}
	out := Sheet{SheetName: sheets[0]}
	rows, err := f.GetRows(out.SheetName, excelize.Options{RawCellValue: true})
	if err != nil {
		return Sheet{}, fmt.Errorf("%w: read sheet %q: %v", domain.ErrMalformedFile, out.SheetName, err)
	}
	col := -1
	seen := map[string]bool{}
	for i, cells := range rows {
		if blank(cells) {
			continue
		}
		rowNo := i + 1
		if out.HeaderRow == 0 {
			out.HeaderRow = rowNo
			for j, c := range cells {
				if headers[normHeader(c)] {
					col, out.Column = j, strings.TrimSpace(c)
					break
				}
			}
			if col < 0 {
				return Sheet{}, fmt.Errorf("%w: header row %d of sheet %q has no customer id column (e.g. customer_id, 客户ID)",
					domain.ErrMalformedFile, rowNo, out.SheetName)
			}
			continue
		}
		out.DataRows++
		if out.DataRows > MaxRows {
			return Sheet{}, fmt.Errorf("%w: more than %d rows", domain.ErrMalformedFile, MaxRows)
		}
		id := ""
		if col < len(cells) {
			id = strings.TrimSpace(cells[col])
		}
		switch {
		case id == "":
			out.Invalid = append(out.Invalid, Invalid{Row: rowNo, Reason: "customer id is empty"})
		case !domain.ValidCustomerID(id):
			out.Invalid = append(out.Invalid, Invalid{Row: rowNo, Reason: fmt.Sprintf("%q is not a customer id", truncate(id, 80))})
		case seen[id]:
			out.DuplicateRows = append(out.DuplicateRows, rowNo)
		default:
			seen[id] = true
			out.CustomerIDs = append(out.CustomerIDs, id)
		}
	}
	if out.HeaderRow == 0 {
		return Sheet{}, fmt.Errorf("%w: sheet %q is empty, no header row", domain.ErrMalformedFile, out.SheetName)
	}
	return out, nil
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

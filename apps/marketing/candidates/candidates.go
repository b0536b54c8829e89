// Package candidates reads a campaign's candidate list from an .xlsx file
// (DOMAIN 3.2: staff prepare the list in Excel). It only reads and checks
// the sheet; what is stored, and whether a customer is already listed, is
// the store's business. It lives apart from domain because it needs excelize.
package candidates

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/harvest/harvest/apps/marketing/domain"
)

// Limits on one candidate file. An .xlsx is a zip: a few kilobytes of it can
// unzip to gigabytes (a zip bomb), and excelize's own default allows 16 GB,
// spilled to temporary files. A list of MaxRows ids with a few columns
// unzips to some tens of megabytes, so anything past MaxUnzipBytes is not a
// candidate list.
const (
	// MaxRows bounds the data rows of one file: goods-gift lists are small
	// (DOMAIN 3.2), and a list this long is a wrong file, not a campaign.
	MaxRows = 200_000
	// MaxUnzipBytes bounds the sum of the file's parts once unzipped.
	MaxUnzipBytes = 64 << 20
	// MaxXMLBytes is the largest sheet (or shared-strings part) held in
	// memory; a larger one, still within MaxUnzipBytes, is streamed from a
	// temporary file that excelize removes on Close.
	MaxXMLBytes = 16 << 20
	// MaxParts bounds the entries of the zip; a workbook has a dozen.
	MaxParts = 1_000
	// MaxColumns bounds how far right a cell may be (column IV, the old
	// Excel's last): a list's id column is among the first few.
	MaxColumns = 256
)

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
// domain.ErrMalformedFile; one that unzips to more than MaxUnzipBytes, has
// a cell past MaxColumns or more than MaxRows rows, with
// domain.ErrFileTooLarge; in either case nothing is to be imported.
func Parse(file []byte) (Sheet, error) {
	if err := checkZip(file); err != nil {
		return Sheet{}, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(file), excelize.Options{RawCellValue: true,
		UnzipSizeLimit: MaxUnzipBytes, UnzipXMLSizeLimit: MaxXMLBytes})
	if err != nil {
		return Sheet{}, fmt.Errorf("%w: not an .xlsx workbook: %v", domain.ErrMalformedFile, err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return Sheet{}, fmt.Errorf("%w: the workbook has no sheet", domain.ErrMalformedFile)
	}
	out := Sheet{SheetName: sheets[0]}
	// Rows streams the sheet: GetRows would hold every row at once before
	// the row cap below could refuse the file.
	rows, err := f.Rows(out.SheetName)
	if err != nil {
		return Sheet{}, fmt.Errorf("%w: read sheet %q: %v", domain.ErrMalformedFile, out.SheetName, err)
	}
	defer rows.Close()
	col := -1
	seen := map[string]bool{}
	for rowNo := 1; rows.Next(); rowNo++ {
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return Sheet{}, fmt.Errorf("%w: read row %d of sheet %q: %v", domain.ErrMalformedFile, rowNo, out.SheetName, err)
		}
		if blank(cells) {
			continue
		}
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
			return Sheet{}, fmt.Errorf("%w: more than %d rows", domain.ErrFileTooLarge, MaxRows)
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
	if err := rows.Error(); err != nil {
		return Sheet{}, fmt.Errorf("%w: read sheet %q: %v", domain.ErrMalformedFile, out.SheetName, err)
	}
	if out.HeaderRow == 0 {
		return Sheet{}, fmt.Errorf("%w: sheet %q is empty, no header row", domain.ErrMalformedFile, out.SheetName)
	}
	return out, nil
}

// checkZip refuses a file whose parts would unzip to more than
// MaxUnzipBytes before anything is unzipped, then inflates each part once
// into nothing. The sizes it adds up are the ones the zip declares;
// archive/zip fails a part that inflates past its declared size (or fails
// its checksum), which excelize would silently cut short: a list read in
// part must fail, not import what came before the cut.
func checkZip(file []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		return fmt.Errorf("%w: not an .xlsx workbook: %v", domain.ErrMalformedFile, err)
	}
	if len(zr.File) > MaxParts {
		return fmt.Errorf("%w: the workbook has %d parts, more than %d", domain.ErrFileTooLarge, len(zr.File), MaxParts)
	}
	var total uint64
	for _, p := range zr.File {
		total += p.UncompressedSize64
		if p.UncompressedSize64 > MaxUnzipBytes || total > MaxUnzipBytes {
			return fmt.Errorf("%w: the workbook unzips to more than %d bytes (part %q alone is %d bytes)",
				domain.ErrFileTooLarge, MaxUnzipBytes, p.Name, p.UncompressedSize64)
		}
	}
	for _, p := range zr.File {
		if err := inflate(p); err != nil {
			return err
		}
	}
	return nil
}

// inflate reads part p to its end; a worksheet's cells are checked on the
// way (checkCells).
func inflate(p *zip.File) error {
	rc, err := p.Open()
	if err != nil {
		return fmt.Errorf("%w: part %q: %v", domain.ErrMalformedFile, p.Name, err)
	}
	defer rc.Close()
	name := strings.ToLower(strings.ReplaceAll(p.Name, "\\", "/"))
	if strings.HasPrefix(name, "xl/worksheets/") && strings.HasSuffix(name, ".xml") {
		if err := checkCells(rc, p.Name); err != nil {
			return err
		}
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("%w: part %q: %v", domain.ErrMalformedFile, p.Name, err)
	}
	return nil
}

// checkCells refuses a worksheet with a cell past column MaxColumns. excelize
// hands every row out as wide as its last cell: one cell at column XFD
// (16,384) per row turns a 1 MB file into minutes of work, far beyond
// what the unzip limit bounds.
func checkCells(r io.Reader, part string) error {
	d := xml.NewDecoder(r)
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: part %q is not readable XML: %v", domain.ErrMalformedFile, part, err)
		}
		el, ok := tok.(xml.StartElement)
		if !ok || el.Name.Local != "c" {
			continue
		}
		for _, a := range el.Attr {
			if a.Name.Local != "r" {
				continue
			}
			col, _, err := excelize.CellNameToCoordinates(a.Value)
			if err != nil {
				return fmt.Errorf("%w: part %q: cell reference %q: %v", domain.ErrMalformedFile, part, truncate(a.Value, 20), err)
			}
			if col > MaxColumns {
				return fmt.Errorf("%w: cell %s of part %q is past column %d", domain.ErrFileTooLarge, a.Value, part, MaxColumns)
			}
		}
	}
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

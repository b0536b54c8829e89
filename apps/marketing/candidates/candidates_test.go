package candidates_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/harvest/harvest/apps/marketing/candidates"
	"github.com/harvest/harvest/apps/marketing/domain"
)

// Workbook builds an .xlsx file whose first sheet holds rows (nil rows are
// left empty), the way staff would save one from Excel.
func Workbook(t testing.TB, rows ...[]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		if r == nil {
			continue
		}
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseGoodFile(t *testing.T) {
	file := Workbook(t,
		[]any{"序号", "客户ID", "备注"},
		[]any{1, "C0001", "vip"},
		[]any{2, "C0002"},
		nil, // an empty row is neither a candidate nor invalid
		[]any{3, 10003},
	)
	s, err := candidates.Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	if s.HeaderRow != 1 || s.Column != "客户ID" || s.DataRows != 3 {
		t.Fatalf("header=%d column=%q rows=%d", s.HeaderRow, s.Column, s.DataRows)
	}
	if want := []string{"C0001", "C0002", "10003"}; !reflect.DeepEqual(s.CustomerIDs, want) {
		t.Fatalf("ids = %q, want %q", s.CustomerIDs, want)
	}
	if len(s.DuplicateRows) != 0 || len(s.Invalid) != 0 {
		t.Fatalf("dups=%v invalid=%v", s.DuplicateRows, s.Invalid)
	}
}

func TestParseHeaderNotOnFirstRow(t *testing.T) {
	s, err := candidates.Parse(Workbook(t, nil, nil, []any{"Customer ID"}, []any{"C1"}))
	if err != nil || s.HeaderRow != 3 || !reflect.DeepEqual(s.CustomerIDs, []string{"C1"}) {
		t.Fatalf("sheet=%+v err=%v", s, err)
	}
}

func TestParseDuplicatesAndBadRows(t *testing.T) {
	file := Workbook(t,
		[]any{"name", "customer_id"},
		[]any{"a", "C1"},
		[]any{"b", "C2"},
		[]any{"c", "C1"},         // row 4: duplicate
		[]any{"d", ""},           // row 5: empty id
		[]any{"e", "not an id!"}, // row 6: invalid
		[]any{"f", " C2 "},       // row 7: duplicate after trimming
		[]any{"g", "C3"},
	)
	s, err := candidates.Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"C1", "C2", "C3"}; !reflect.DeepEqual(s.CustomerIDs, want) {
		t.Fatalf("ids = %q", s.CustomerIDs)
	}
	if want := []int{4, 7}; !reflect.DeepEqual(s.DuplicateRows, want) {
		t.Fatalf("duplicate rows = %v, want %v", s.DuplicateRows, want)
	}
	if len(s.Invalid) != 2 || s.Invalid[0].Row != 5 || s.Invalid[1].Row != 6 {
		t.Fatalf("invalid = %+v", s.Invalid)
	}
	if s.DataRows != 7 {
		t.Fatalf("data rows = %d", s.DataRows)
	}
}

func TestParseMalformed(t *testing.T) {
	cases := map[string][]byte{
		"missing column": Workbook(t, []any{"name", "phone"}, []any{"a", "138"}),
		"empty sheet":    Workbook(t),
		"not xlsx":       []byte("customer_id\nC1\n"),
		"no body":        nil,
	}
	for name, file := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := candidates.Parse(file); !errors.Is(err, domain.ErrMalformedFile) {
				t.Fatalf("err = %v, want ErrMalformedFile", err)
			}
		})
	}
}

// rezip returns file with the part named name replaced by what edit makes
// of it, compressed as hard as deflate goes, the way an attacker would.
func rezip(t testing.TB, file []byte, name string, edit func([]byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestCompression) })
	found := false
	for _, p := range zr.File {
		rc, err := p.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if p.Name == name {
			b, found = edit(b), true
		}
		w, err := zw.Create(p.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatalf("no part %s", name)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

const sheetPart = "xl/worksheets/sheet1.xml"

// ZipBomb is a valid one-candidate workbook whose sheet is padded with
// whitespace (legal after the root element) to past MaxUnzipBytes: some
// tens of kilobytes on the wire.
func ZipBomb(t testing.TB) []byte {
	t.Helper()
	return rezip(t, Workbook(t, []any{"customer_id"}, []any{"C1"}), sheetPart, func(b []byte) []byte {
		return append(b, bytes.Repeat([]byte(" "), candidates.MaxUnzipBytes+candidates.MaxUnzipBytes/4)...)
	})
}

func TestParseRefusesZipBomb(t *testing.T) {
	bomb := ZipBomb(t)
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes, not a small file", len(bomb))
	}
	s, err := candidates.Parse(bomb)
	if !errors.Is(err, domain.ErrFileTooLarge) {
		t.Fatalf("sheet=%+v err=%v, want ErrFileTooLarge", s, err)
	}
	if want := fmt.Sprintf("unzips to more than %d bytes (part %q", candidates.MaxUnzipBytes, sheetPart); !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to say %q", err, want)
	}
	if len(s.CustomerIDs) != 0 {
		t.Fatalf("a refused file gave ids %v", s.CustomerIDs)
	}
}

// A part whose zip header claims a small size but whose data inflates far
// past it must not slip under the limit.
func TestParseRefusesPartLyingAboutItsSize(t *testing.T) {
	good := Workbook(t, []any{"customer_id"}, []any{"C1"})
	zr, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, p := range zr.File {
		rc, _ := p.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if p.Name != sheetPart {
			w, _ := zw.Create(p.Name)
			w.Write(b)
			continue
		}
		b = append(b, bytes.Repeat([]byte(" "), 2*candidates.MaxUnzipBytes)...)
		var raw bytes.Buffer
		fw, _ := flate.NewWriter(&raw, flate.BestCompression)
		fw.Write(b)
		fw.Close()
		w, err := zw.CreateRaw(&zip.FileHeader{Name: p.Name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(b),
			CompressedSize64: uint64(raw.Len()), UncompressedSize64: 1000})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(raw.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := candidates.Parse(out.Bytes()); !errors.Is(err, domain.ErrMalformedFile) {
		t.Fatalf("sheet=%+v err=%v, want ErrMalformedFile", s, err)
	}
}

// The row cap refuses a long list while streaming it, well within the
// unzip limit.
func TestParseRefusesTooManyRows(t *testing.T) {
	file := rezip(t, Workbook(t, []any{"customer_id"}), sheetPart, func(b []byte) []byte {
		var rows strings.Builder
		for i := 2; i <= candidates.MaxRows+2; i++ {
			fmt.Fprintf(&rows, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>C%d</t></is></c></row>`, i, i, i)
		}
		return bytes.Replace(b, []byte("</row>"), []byte("</row>"+rows.String()), 1)
	})
	s, err := candidates.Parse(file)
	if !errors.Is(err, domain.ErrFileTooLarge) || !strings.Contains(err.Error(), fmt.Sprintf("more than %d rows", candidates.MaxRows)) {
		t.Fatalf("rows=%d err=%v, want ErrFileTooLarge for the rows", s.DataRows, err)
	}
}

// One cell far to the right per row makes excelize hand out every row
// 16,384 cells wide: a 760 kB file of 150,000 such rows took 85 s to
// parse. It is refused before parsing.
func TestParseRefusesCellsPastMaxColumns(t *testing.T) {
	file := rezip(t, Workbook(t, []any{"customer_id"}), sheetPart, func(b []byte) []byte {
		var rows strings.Builder
		for i := 2; i <= 1_000; i++ {
			fmt.Fprintf(&rows, `<row r="%d"><c r="XFD%d" t="inlineStr"><is><t>x</t></is></c></row>`, i, i)
		}
		return bytes.Replace(b, []byte("</row>"), []byte("</row>"+rows.String()), 1)
	})
	s, err := candidates.Parse(file)
	if !errors.Is(err, domain.ErrFileTooLarge) || !strings.Contains(err.Error(), fmt.Sprintf("past column %d", candidates.MaxColumns)) {
		t.Fatalf("rows=%d err=%v, want ErrFileTooLarge for the columns", s.DataRows, err)
	}
	// The last column allowed still reads.
	s, err = candidates.Parse(rezip(t, Workbook(t, []any{"customer_id"}, []any{"C1"}), sheetPart, func(b []byte) []byte {
		return bytes.Replace(b, []byte("</row></sheetData>"), []byte(`<c r="IV2" t="inlineStr"><is><t>x</t></is></c></row></sheetData>`), 1)
	}))
	if err != nil || len(s.CustomerIDs) != 1 {
		t.Fatalf("column IV: %+v %v", s, err)
	}
}

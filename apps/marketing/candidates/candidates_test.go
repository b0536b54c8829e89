package candidates_test

import (
	"errors"
	"reflect"
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

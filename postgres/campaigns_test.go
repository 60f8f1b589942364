package postgres_test

import (
	"testing"

	"github.com/guichet/guichet/campaigns/campaignstest"
)

func TestCampaigns(t *testing.T) {
	campaignstest.Run(t, newStore(t).Campaigns())
}
